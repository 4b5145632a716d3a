"""Fleet health: robot and customer health computed from the rollups (reads and writes through the
store's ``health`` part).  Imports the store and protocol only, never alerts or the web layer."""
