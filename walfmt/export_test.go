package walfmt

// BitflipHintForTest exposes bitflipHint to the external tests.
var BitflipHintForTest = bitflipHint
