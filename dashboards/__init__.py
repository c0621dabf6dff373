"""The DeltaStore dashboards as a static offline site, and exports of the marts for BI tools.

Reads the sync target through ``deltastore.db``; never imports ``workflows``.
"""

from deltastore.dashboards.render import render_dashboards

__all__ = ["render_dashboards"]
