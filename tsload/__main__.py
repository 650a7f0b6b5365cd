from tsload.cli import main

main()
