"""Reading inputs and writing results. Imports spec and errors only, never compute."""
