#!/bin/sh
# Writes the vmslim(1) man page from the binary's own help: `vmslim help` for the list of
# commands and each command's --help for its section, so the page cannot drift from what
# the commands say.
# usage: gen-man.sh VMSLIM OUT.1
set -eu
vmslim=$1 out=$2
tmp=$out.tmp.$$
trap 'rm -f "$tmp"' EXIT

# roff-safe text: backslashes escaped, and a line that starts with . or ' is not a request
roff() { sed -e 's/\\/\\e/g' -e "s/^\\([.']\\)/\\\\\\&\\1/"; }

version=$("$vmslim" --version | sed 's/^vmslim //')
commands=$("$vmslim" help | sed -n 's/^  \([a-z][a-z]*\)  .*/\1/p')
{
	printf '.TH VMSLIM 1 "" "vmslim %s" "User Commands"\n' "$version"
	printf '.SH NAME\nvmslim \\- fast eBPF development: slim vmlinux.h, millisecond checks, cached BPF builds\n'
	printf '.SH SYNOPSIS\n.B vmslim\n.I COMMAND\n[\\fIOPTIONS\\fR] [\\fIARGS\\fR]\n.br\n'
	printf '.B vmslim\n.RB [ \\-V | \\-\\-version | help\n.RI [ COMMAND ]]\n'
	printf '.SH DESCRIPTION\n'
	printf 'Every command takes \\fB\\-\\-help\\fR (the text of its section below) and\n'
	printf '\\fB\\-V\\fR/\\fB\\-\\-version\\fR. Exit status: 0 success, 1 failure, 2 usage error;\n'
	printf 'a command'"'"'s section lists its own further codes.\n'
	printf '.SH COMMANDS\n'
	"$vmslim" help | roff | sed -n 's/^  \([a-z][a-z]*\)  *\(.*\)/.TP\n.B \1\n\2/p'
	for c in $commands; do
		printf '.SS "vmslim %s"\n.nf\n' "$c"
		"$vmslim" "$c" --help | roff
		printf '.fi\n'
	done
	printf '.SH ENVIRONMENT\n'
	printf '.TP\n.B VMSLIM_CLANG\nthe clang every command compiles with (default: clang)\n'
	printf '.TP\n.B VMSLIM_HEADERS\nvmslim'"'"'s shipped headers (TCC prelude, shims)\n'
	printf '.TP\n.B XDG_CACHE_HOME\nthe cache lives in $XDG_CACHE_HOME/vmslim, else ~/.cache/vmslim\n'
	printf '.SH SEE ALSO\n.BR clang (1),\n.BR bpftool (8),\n.BR ccache (1)\n'
} > "$tmp"
mv "$tmp" "$out"
trap - EXIT
