"""Views: the JSON is the model; human text is rendered from the same dict."""
