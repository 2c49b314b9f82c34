"""The Content-Security-Policy as the browser applies it."""


def watch_for_csp_violations(page) -> list[str]:
    """What the Content-Security-Policy refused on this page from now on (an inline script or
    style, a resource from elsewhere), as Chromium reports it on the console."""
    refused = []
    page.on(
        "console",
        lambda message: (
            refused.append(f"{page.url}: {message.text}")
            if "Content Security Policy" in message.text
            else None
        ),
    )
    return refused
