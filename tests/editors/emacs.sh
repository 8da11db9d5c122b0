#!/bin/sh
# The Emacs eglot recipe of docs/editors.md, cut from the doc, in Debian's Emacs (batch):
# eglot starts `vmslim lsp` for a *.bpf.c buffer, flymake shows the error on its line,
# and fixing the line clears it. -q, not -Q: Debian's site start-up is what puts its
# elpa-* packages (eglot on Emacs 28) on the load path, as for a user.
# usage: emacs.sh VMSLIM EDITORS_MD VMLINUX_DIR WORK_DIR   (77: no emacs/eglot, no vmlinux.h)
set -u
vmslim=$1 doc=$2 vmlinux=$3 work=$4
command -v emacs >/dev/null || { echo "skipped: no emacs (apt install emacs-nox elpa-eglot)"; exit 77; }
[ -f "$vmlinux/vmlinux.h" ] || { echo "skipped: no $vmlinux/vmlinux.h"; exit 77; }
emacs --batch -q --eval "(require 'eglot)" >/dev/null 2>&1 ||
	{ echo "skipped: no eglot (apt install elpa-eglot)"; exit 77; }
rm -rf "$work"
mkdir -p "$work/home" "$work/proj"
awk '
	/^```elisp$/ { inblock = 1; n = 0; next }
	/^```$/ && inblock { if (take) exit; inblock = 0; next }
	inblock { n++; if (n == 1 && index($0, ";; vmslim lsp with eglot") == 1) take = 1; if (take) print }' "$doc" |
	sed -e "s|(\"vmslim\" \"lsp\"|(\"$vmslim\" \"lsp\"|" -e "s|/path/to/dir/with/vmlinux.h|$vmlinux|" > "$work/init.el"
grep -q "\"$vmslim\" \"lsp\"" "$work/init.el" || { echo "FAIL: no eglot snippet with (\"vmslim\" \"lsp\" ...) in $doc"; exit 1; }

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

cat > "$work/drive.el" <<'EL'
(require 'eglot)
(load (expand-file-name "init.el" (getenv "WORK")))
(defun wait-for (pred secs)
  (let ((end (+ (float-time) secs)))
    (while (and (not (funcall pred)) (< (float-time) end))
      (accept-process-output nil 0.05))
    (funcall pred)))
(defun say (fmt &rest args)
  (append-to-file (concat (apply #'format fmt args) "\n") nil (getenv "RESULT")))
(find-file (expand-file-name "proj/probe.bpf.c" (getenv "WORK")))
(c-mode)
(apply #'eglot (eglot--guess-contact))
(if (not (wait-for (lambda () (flymake-diagnostics)) 30))
    (say "no diagnostics after 30 s")
  (dolist (d (flymake-diagnostics))
    (say "diag %d %s" (line-number-at-pos (flymake-diagnostic-beg d))
         (flymake-diagnostic-text d)))
  (goto-char (point-min))
  (forward-line 5)
  (delete-region (line-beginning-position) (line-end-position))
  (insert "\treturn ctx->ip;")
  (if (wait-for (lambda () (null (flymake-diagnostics))) 30)
      (say "cleared")
    (say "not cleared")))
(say "server %s" (if (eglot-current-server) (car (process-command (jsonrpc--process (eglot-current-server)))) "none"))
(let ((eglot-autoshutdown t)) (ignore-errors (eglot-shutdown (eglot-current-server))))
(kill-emacs 0)
EL

cd "$work/proj"
WORK=$work RESULT=$work/result HOME=$work/home timeout 120 emacs --batch -q -l "$work/drive.el" >"$work/emacs.out" 2>&1
rc=$?
cat "$work/result" 2>/dev/null
[ $rc -eq 0 ] || { echo "FAIL: emacs exited $rc"; tail -20 "$work/emacs.out"; exit 1; }
grep -q "^diag 6 .*no_such_field" "$work/result" || { echo "FAIL: no diagnostic on line 6"; tail -20 "$work/emacs.out"; exit 1; }
grep -q "^cleared$" "$work/result" || { echo "FAIL: the fix did not clear it"; exit 1; }
grep -q "^server $vmslim$" "$work/result" || { echo "FAIL: eglot's server is not vmslim"; exit 1; }
echo "$(emacs --version | head -n 1) + eglot: the doc's recipe shows the error on line 6 and clears it"
