from rnnbench.cli import app

app(prog_name="rnnbench")
