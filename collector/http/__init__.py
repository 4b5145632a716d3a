"""The collector's HTTP server: one aiohttp application assembled from parts."""
