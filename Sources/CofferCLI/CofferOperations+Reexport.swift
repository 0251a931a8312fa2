// The operations the commands call (Workspace, Trust, AccessDenied, UsageError, …) live in CofferOperations; every
// command file imports it. Re-exported here too, so that a command file written against the CLI before the move
// (which had those types in this module) still finds them: the move is invisible to command code.
@_exported import CofferOperations
