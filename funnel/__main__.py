from funnel.cli import main

main()
