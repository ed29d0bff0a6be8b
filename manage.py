#!/usr/bin/env python
from paperfeed.cli import main

if __name__ == "__main__":
    main()
