// The offline docs site (tools/build_docs.py): maths with KaTeX, search with Pagefind, the menu button on narrow screens.
(function () {
  var root = document.body.getAttribute('data-root') || '';
  var rootPath = new URL(root || './', location.href).pathname;

  function maths() {
    if (!window.renderMathInElement) return;
    var opts = {
      delimiters: [
        {left: '$$', right: '$$', display: true},
        {left: '\\[', right: '\\]', display: true},
        {left: '\\(', right: '\\)', display: false},
        {left: '$', right: '$', display: false}
      ],
      ignoredTags: ['script', 'noscript', 'style', 'textarea', 'pre', 'code', 'option'],
      ignoredClasses: ['highlight', 'nomath'],
      throwOnError: false
    };
    document.querySelectorAll('main, aside.toc').forEach(function (el) { renderMathInElement(el, opts); });
    document.body.setAttribute('data-maths', 'done');
  }

  function search() {
    var el = document.getElementById('search');
    if (!el) return;
    if (location.protocol === 'file:') {   // Pagefind fetches its index: it needs the site served over HTTP
      el.innerHTML = '<span class="nosearch">search needs the site served: python -m http.server -d _docs</span>';
      return;
    }
    if (!window.PagefindUI) return;
    new PagefindUI({element: '#search', showSubResults: true, showImages: false, resetStyles: false,
                    bundlePath: rootPath + 'pagefind/', baseUrl: rootPath, translations: {placeholder: 'Search the docs'}});
  }

  function menu() {
    var b = document.querySelector('button.menu');
    if (!b) return;
    b.addEventListener('click', function () {
      var open = document.body.classList.toggle('nav-open');
      b.setAttribute('aria-expanded', open ? 'true' : 'false');
    });
    document.querySelector('main').addEventListener('click', function () { document.body.classList.remove('nav-open'); });
  }

  // Tables: a page whose table is wider than the text column gives up the contents column (the contents move into the page,
  // as on narrower screens), so that the table has the width beside it; on a phone, every table of four or more columns is
  // drawn as one card per row, each cell under its column's name, instead of a box scrolled sideways.
  function tables() {
    var wide = false;
    document.querySelectorAll('main table').forEach(function (t) {
      var heads = Array.prototype.map.call(t.querySelectorAll('thead th'), function (th) { return th.textContent.trim(); });
      if (heads.length >= 4) {
        t.classList.add('stack');
        t.querySelectorAll('tbody tr').forEach(function (tr) {
          Array.prototype.forEach.call(tr.children, function (td, i) { if (heads[i]) td.setAttribute('data-label', heads[i]); });
        });
      }
      var box = t.parentElement;
      if (box && t.scrollWidth > box.clientWidth + 1) wide = true;
    });
    if (wide && window.matchMedia('(min-width: 1201px)').matches) document.body.classList.add('wide-page');
  }

  function ready(f) { if (document.readyState !== 'loading') f(); else document.addEventListener('DOMContentLoaded', f); }
  ready(function () { menu(); maths(); search(); tables(); });
})();
