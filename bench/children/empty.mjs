// Imported before the timed import, so the timed one finds the ES module loader warm, as it is in an
// application whose own entry is an ES module.
export {};
