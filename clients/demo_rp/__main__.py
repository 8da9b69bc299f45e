"""``python -m clients.demo_rp``: serve the demo RP on 127.0.0.1 at the port of DEMO_RP_BASE_URL."""

from urllib.parse import urlsplit

from clients.demo_rp import create_app


def port_of(base_url: str) -> int:
    """The port a base URL names (80 or 443 when it names none)."""
    parts = urlsplit(base_url)
    return parts.port or (443 if parts.scheme == "https" else 80)


def main() -> None:
    """Run the demo RP's development server."""
    app = create_app()
    app.run(host="127.0.0.1", port=port_of(app.config["DEMO_RP"]["BASE_URL"]), threaded=True)


if __name__ == "__main__":
    main()
