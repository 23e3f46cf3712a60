package walfmt

// BitflipForTest exposes bitflip to the external tests.
var BitflipForTest = bitflip
