# Editors (issue 15): the recipes of docs/editors.md, run as the doc gives them.
#   editors_nvim      Debian's Neovim, headless, with the doc's init.lua snippets
#   editors_emacs     Debian's Emacs 28 (batch) + eglot, with the doc's elisp block
#   editors_vscode    the doc's VS Code extension: npm install, manifest vs client library,
#                     the module loads and activates against a stub of the vscode API
add_test(NAME editors_nvim
  COMMAND sh ${CMAKE_CURRENT_LIST_DIR}/nvim.sh ${VMSLIM_BIN} ${PROJECT_SOURCE_DIR}/docs/editors.md
          ${CMAKE_BINARY_DIR}/vmlinux/6.18.44 ${CMAKE_CURRENT_BINARY_DIR}/editors/nvim)
set_tests_properties(editors_nvim PROPERTIES LABELS editors SKIP_RETURN_CODE 77 TIMEOUT 300)
add_test(NAME editors_vscode
  COMMAND sh ${CMAKE_CURRENT_LIST_DIR}/vscode.sh ${VMSLIM_BIN} ${PROJECT_SOURCE_DIR}/docs/editors.md
          ${CMAKE_CURRENT_BINARY_DIR}/editors/vscode)
set_tests_properties(editors_vscode PROPERTIES LABELS editors SKIP_RETURN_CODE 77 TIMEOUT 600)
# editors_emacs: Debian's Emacs (batch) + eglot with the doc's elisp block
add_test(NAME editors_emacs
  COMMAND sh ${CMAKE_CURRENT_LIST_DIR}/emacs.sh ${VMSLIM_BIN} ${PROJECT_SOURCE_DIR}/docs/editors.md
          ${CMAKE_BINARY_DIR}/vmlinux/6.18.44 ${CMAKE_CURRENT_BINARY_DIR}/editors/emacs)
set_tests_properties(editors_emacs PROPERTIES LABELS editors SKIP_RETURN_CODE 77 TIMEOUT 300)
# editors_helix: Helix is not in Debian 12; the doc's languages.toml is parsed and the
# server command it gives is driven as Helix would drive it
add_test(NAME editors_helix
  COMMAND ${Python3_EXECUTABLE} ${CMAKE_CURRENT_LIST_DIR}/helix.py ${VMSLIM_BIN}
          ${PROJECT_SOURCE_DIR}/docs/editors.md ${CMAKE_BINARY_DIR}/vmlinux/6.18.44
          ${CMAKE_CURRENT_BINARY_DIR}/editors/helix)
set_tests_properties(editors_helix PROPERTIES LABELS editors SKIP_RETURN_CODE 77 TIMEOUT 300)
