#!/bin/sh
# The Neovim recipe of docs/editors.md, as the doc gives it, in the real Neovim of this
# machine (Debian 12: 0.7.2), headless: a *.bpf.c file with an error shows the diagnostic
# on its line, and the fix clears it. The snippets are cut from the doc, so a doc that
# breaks fails here; only the binary and header paths are put in.
# usage: nvim.sh VMSLIM EDITORS_MD VMLINUX_DIR WORK_DIR   (77: no nvim or no vmlinux.h)
set -u
vmslim=$1 doc=$2 vmlinux=$3 work=$4
command -v nvim >/dev/null || { echo "skipped: no nvim (apt install neovim)"; exit 77; }
[ -f "$vmlinux/vmlinux.h" ] || { echo "skipped: no $vmlinux/vmlinux.h"; exit 77; }
rm -rf "$work"
mkdir -p "$work/home" "$work/proj"

# snippet FIRST_LINE: the ```lua block of the doc that begins with that comment line
snippet() {
	awk -v first="$1" '
		/^```lua$/ { inblock = 1; n = 0; next }
		/^```$/ && inblock { if (take) exit; inblock = 0; next }
		inblock { n++; if (n == 1 && index($0, first) == 1) take = 1; if (take) print }' "$doc"
}
{
	snippet "-- vmslim lsp for *.bpf.c"
	snippet "-- vmslim lsp, Neovim 0.11 and later"
} | sed -e "s|{ 'vmslim', 'lsp'|{ '$vmslim', 'lsp'|" \
	-e "s|/path/to/dir/with/vmlinux.h|$vmlinux|" > "$work/init.lua"
grep -q "vim.lsp" "$work/init.lua" || { echo "FAIL: no Neovim snippet found in $doc"; exit 1; }
[ "$(grep -c "'$vmslim', 'lsp'" "$work/init.lua")" -eq 2 ] ||
	{ echo "FAIL: the snippets' cmd is not { 'vmslim', 'lsp', ... } any more"; exit 1; }

cat > "$work/proj/probe.bpf.c" <<'C'
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
SEC("kprobe/x")
int probe(struct pt_regs *ctx)
{
	return ctx->no_such_field;
}
char LICENSE[] SEC("license") = "GPL";
C

# the test itself: wait for the diagnostic, fix the line, wait for it to go
cat > "$work/drive.lua" <<'LUA'
local out = io.open(vim.env.RESULT, 'w')
local function say(s) out:write(s .. '\n') out:flush() end
local function diags() return vim.diagnostic.get(0) end
if not vim.wait(30000, function() return #diags() > 0 end, 20) then
  say('no diagnostics after 30 s')
else
  for _, d in ipairs(diags()) do say(string.format('diag %d %s', d.lnum + 1, d.message)) end
  vim.api.nvim_buf_set_lines(0, 5, 6, false, { '\treturn ctx->ip;' })
  if vim.wait(30000, function() return #diags() == 0 end, 20) then
    say('cleared')
  else
    say('not cleared: ' .. vim.inspect(diags()))
  end
end
local names = {}
for _, c in pairs(vim.lsp.buf_get_clients(0)) do table.insert(names, c.name) end
say('clients ' .. table.concat(names, ','))
out:close()
vim.cmd('qa!')
LUA

cd "$work/proj"
RESULT=$work/result HOME=$work/home XDG_CONFIG_HOME=$work/home/.config \
	XDG_DATA_HOME=$work/home/.local/share XDG_STATE_HOME=$work/home/.local/state \
	XDG_CACHE_HOME=$work/home/.cache \
	timeout 120 nvim --headless -n -i NONE -u "$work/init.lua" \
		-c "luafile $work/drive.lua" probe.bpf.c >"$work/nvim.out" 2>&1
rc=$?
cat "$work/result" 2>/dev/null
[ $rc -eq 0 ] || { echo "FAIL: nvim exited $rc"; cat "$work/nvim.out"; exit 1; }
grep -q "^diag 6 .*no_such_field" "$work/result" || { echo "FAIL: no diagnostic on line 6"; exit 1; }
grep -q "^cleared$" "$work/result" || { echo "FAIL: the fix did not clear it"; exit 1; }
grep -q "^clients vmslim$" "$work/result" || { echo "FAIL: vmslim is not the buffer's server"; exit 1; }
echo "Neovim $(nvim --version | head -n 1): the doc's recipe shows the error on line 6 and clears it"
