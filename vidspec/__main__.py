from vidspec.app.cli import main

main()
