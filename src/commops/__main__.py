from commops.cli import main

main()
