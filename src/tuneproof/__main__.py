from tuneproof.cli import main

main()
