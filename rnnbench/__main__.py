from rnnbench import main

main()
