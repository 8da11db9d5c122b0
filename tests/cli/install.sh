#!/bin/sh
# `cmake --install` puts the binary, the shipped headers, vmslim(1) and bash completion
# where a user (and man, and bash-completion) look; the installed page renders with
# `man -l` and names every command and every option their --help names; the installed
# completion, sourced in bash, completes commands and each command's options; the
# installed binary finds its shipped headers.
# usage: install.sh BUILD_DIR OUT_DIR
set -u
build=$1 out=$2
fail=0
no() { echo "FAIL: $*"; fail=1; }
rm -rf "$out"
cmake --install "$build" --prefix "$out/usr" >"$out.log" 2>&1 || { cat "$out.log"; exit 1; }
bin=$out/usr/bin/vmslim page=$out/usr/share/man/man1/vmslim.1
comp=$out/usr/share/bash-completion/completions/vmslim
for f in "$bin" "$page" "$comp" "$out/usr/share/vmslim/headers"; do
	[ -e "$f" ] || no "not installed: $f"
done
[ $fail -eq 0 ] || exit 1

MANWIDTH=200 man -l "$page" >"$out/page.txt" 2>"$out/page.err" || no "man -l failed"
[ -s "$out/page.err" ] && no "man -l warned: $(cat "$out/page.err")"
commands=$("$bin" help | sed -n 's/^  \([a-z][a-z]*\)  .*/\1/p')
[ -n "$commands" ] || no "vmslim help lists no commands"
for c in $commands; do
	grep -q "^ *vmslim $c\$" "$out/page.txt" || no "man page: no section for $c"
	for o in $("$bin" "$c" --help | grep -oE -- '--[a-z][a-z0-9-]*' | sort -u); do
		grep -q -- "$o" "$out/page.txt" || no "man page: $c's $o missing"
	done
done

# completion as bash runs it: COMP_WORDS/COMP_CWORD set, the function called
complete_words() { # WORDS...: the completions of the last word
	bash -c '. "$1"; shift; COMP_WORDS=("$@"); COMP_CWORD=$(($# - 1)); _vmslim; printf "%s\n" "${COMPREPLY[@]}"' \
		sh "$comp" "$@"
}
complete_words "$bin" ex | grep -qx extract || no "completion: 'ex' does not give extract"
complete_words "$bin" ch | grep -qx check || no "completion: 'ch' does not give check"
complete_words "$bin" extract --hea | grep -qx -- --header || no "completion: extract --hea"
complete_words "$bin" build --cl | grep -qx -- --clang || no "completion: build --cl"
[ "$(complete_words "$bin" extract --no-such | wc -w)" -eq 0 ] || no "completion invents options"
bash -c ". '$comp'; complete -p vmslim" | grep -q _vmslim || no "completion not registered"

# the installed binary uses the installed headers (no source tree needed)
"$bin" check --help >/dev/null || no "installed vmslim check --help"
[ $fail -eq 0 ] && echo "install: binary, headers, man page and completion in place and working"
exit $fail
