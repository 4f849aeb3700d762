"""Science-window tools: coverage of sources by science windows, and light curves of event lists."""
