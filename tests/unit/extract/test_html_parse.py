"""The page parser: one tree of lxml.html elements, whatever the markup."""

from __future__ import annotations

import lxml.html

from crawler.extract.html import parse_html


def test_every_element_of_a_parsed_page_is_an_html_element() -> None:
    # The parser's class lookup is set in C (lxml.html's own calls Python per element); every
    # element must still have lxml.html's methods, forms and inputs included.
    tree = parse_html(
        b"<html><body><!-- gone --><form><input name=q value=x><select><option>A</select>"
        b"<textarea>T</textarea><label>L</label></form><p>Text <b>bold</b></p></body></html>"
    )
    elements = list(tree.iter())
    assert len(elements) == 10
    assert all(isinstance(e, lxml.html.HtmlElement) for e in elements)
    assert tree.find(".//p").text_content() == "Text bold"
    assert tree.find(".//form").text_content() == "ATL"  # the comment was dropped
