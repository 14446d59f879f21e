"""The Embeddings step: the frozen base's pooled features of every image, computed once per run
and shared by the audit, the Tuner's cached mode and the Trainer's phase 1 (contract/audit.py)."""
