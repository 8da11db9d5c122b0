// emscripten JS library of the WebAssembly checker (wasm/snapshot.c): the pause at the
// snapshot's marker. Asyncify unwinds the C stack into linear memory here; the wake-up
// function is kept on the module, where vmslim-check.js calls it once per check after
// restoring the snapshot's memory.
mergeInto(LibraryManager.library, {
  vms_wasm_pause__deps: ['$Asyncify'],
  vms_wasm_pause: function() {
    return Asyncify.handleSleep(function(wakeUp) {
      Module['vmsWake'] = wakeUp;
      Module['vmsPaused'] = true;
    });
  },
});
