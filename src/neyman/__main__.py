"""``python -m neyman`` runs the command line."""

from neyman.cli.main import main

if __name__ == "__main__":
    main()
