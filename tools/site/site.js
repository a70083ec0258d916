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

  function ready(f) { if (document.readyState !== 'loading') f(); else document.addEventListener('DOMContentLoaded', f); }
  ready(function () { menu(); maths(); search(); });
})();
