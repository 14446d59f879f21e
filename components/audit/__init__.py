"""The data audit: near-duplicates, leaks between splits, likely label errors and outliers, found
from the shared embeddings (components/embeddings/); pure functions plus a TFX component."""
