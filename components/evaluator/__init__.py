"""snout's Evaluator component: TFMA computes the metrics, snout's gate decides the blessing."""
