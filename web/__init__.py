"""The web app: demo shop page with the chat widget, widget assets, catalog images."""
