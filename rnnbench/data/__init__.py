"""Datasets, one module each: the names corpus (corpus: found, downloaded, verified; names: cleaned, deduplicated,
split), a user's CSV (csvfile: read and checked; text: a regression's split), the generated reversal data
(reversal) and time series (series); and what they share: how a user's file is read (delimited: the header, the
rows, the quotes; numbers: the one number parser), tokenizers, vocabularies, tensors and batches (tokenizer, vocab,
batches)."""
