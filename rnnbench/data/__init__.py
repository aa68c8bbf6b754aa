"""Datasets: where the names corpus comes from (corpus), how it is cleaned and split (names), and how text
becomes tensors and batches (vocab, batches)."""
