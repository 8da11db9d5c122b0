// Appended inside the module (emcc --post-js): Asyncify's state, which a snapshot restore
// must set back as it was at the pause (vmslim-check.js), and the object vms_wasm_done
// throws at the end of a check.
Module['vmsAsyncify'] = Asyncify;
Module['vmsDone'] = { vmslimCheckDone: true };
