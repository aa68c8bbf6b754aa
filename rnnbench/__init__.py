"""rnnbench: compare RNN, GRU and LSTM models from one experiment YAML."""

__version__ = "0.1.0"
