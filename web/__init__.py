"""The web app: demo shop page with the chat widget, widget assets, catalog images, and the review console.

The console (``web.console``) holds its own backend: accounts, reviews, summaries and transcripts.
"""
