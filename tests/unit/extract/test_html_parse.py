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


def test_xml_forbidden_characters_are_dropped_from_any_page() -> None:
    # Control characters and the non-characters U+FFFE and U+FFFF would stop libxml2 or
    # XPath; they are dropped, the text around them kept, in ASCII and non-ASCII pages alike.
    for page in ("<p>a\x01b\ufffec\uffffd</p>", "<p>é\x0b\ufffeß\uffff</p>", "<p>plain\x1f</p>"):
        text = parse_html(f"<html><body>{page}</body></html>").find(".//p").text_content()
        expected = page[3:-4]
        for character in "\x01\x0b\x1f\ufffe\uffff":
            expected = expected.replace(character, "")
        assert text == expected
