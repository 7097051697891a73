"""Delivery: what websites and email systems get from Tailor through the REST API and the page.

* `blocks`: decisions for many recipients at once and email blocks (HTML + text), each
  distinct content rendered once;
* `links`: signed tracking tokens and the clicks they record;
* `preview` and `preview_views`: staff see the site as a visitor, a segment or request facts,
  and nothing is recorded meanwhile;
"""
