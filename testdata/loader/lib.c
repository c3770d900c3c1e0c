/* One small library, compiled under many names: ID names the copy. */
int ID(void) { return 1; }
