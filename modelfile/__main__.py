"""``python -m modelfile``."""

from .cli import main

main()
