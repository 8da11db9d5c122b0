# bash completion for vmslim. Commands come from `vmslim help` and each command's options
# from its own --help, asked at completion time, so completion cannot drift from the
# binary it completes (whichever one is being typed: vmslim, ./build/vmslim, ...).
_vmslim() {
	local cur=${COMP_WORDS[COMP_CWORD]} prog=${COMP_WORDS[0]} i
	COMPREPLY=()
	if [ "$COMP_CWORD" -eq 1 ]; then
		local cmds
		cmds=$("$prog" help 2>/dev/null | sed -n 's/^  \([a-z][a-z]*\)  .*/\1/p')
		COMPREPLY=($(compgen -W "$cmds help version --version -V --help" -- "$cur"))
		return
	fi
	local cmd=${COMP_WORDS[1]}
	# after "--" the words are clang's, and cc's are clang's from the start: files
	for ((i = 2; i < COMP_CWORD; i++)); do
		[ "${COMP_WORDS[i]}" = "--" ] && cmd=
	done
	if [ "$cmd" = help ]; then
		COMPREPLY=($(compgen -W "$("$prog" help 2>/dev/null | sed -n 's/^  \([a-z][a-z]*\)  .*/\1/p')" -- "$cur"))
		return
	fi
	if [ -n "$cmd" ] && [ "$cmd" != cc ] && [[ $cur == -* ]]; then
		local opts
		opts=$("$prog" "$cmd" --help 2>/dev/null |
			grep -oE -- '(^|[][ ,|(])--?[a-zA-Z][a-zA-Z0-9-]*' | sed 's/^[][ ,|(]*//' | sort -u)
		COMPREPLY=($(compgen -W "$opts" -- "$cur"))
		return
	fi
	COMPREPLY=($(compgen -f -- "$cur"))
}
complete -o filenames -o bashdefault -F _vmslim vmslim
