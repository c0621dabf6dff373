// Text nodes whose WCAG contrast against their background is below 4.5:1 (AA), as
// "text ratio". The background is the nearest opaque one, or `data-bg` where SVG text sits
// on a coloured mark. Hidden text (no layout box) does not count.
(() => {
  const parse = c => (c.match(/[\d.]+/g) || []).map(Number);
  const lum = ([r, g, b]) => [r, g, b].map(v => { v /= 255;
    return v <= 0.03928 ? v / 12.92 : Math.pow((v + 0.055) / 1.055, 2.4); })
    .reduce((s, v, i) => s + v * [0.2126, 0.7152, 0.0722][i], 0);
  const hex = h => [1, 3, 5].map(i => parseInt(h.substr(i, 2), 16));
  const background = el => {
    for (let e = el; e; e = e.parentElement) {
      if (e.dataset && e.dataset.bg) { return hex(e.dataset.bg); }
      const c = parse(getComputedStyle(e).backgroundColor);
      if (c.length === 3 || (c.length === 4 && c[3] > 0.5)) { return c.slice(0, 3); }
    }
    return [255, 255, 255];
  };
  const bad = [];
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  for (let n = walker.nextNode(); n; n = walker.nextNode()) {
    const el = n.parentElement;
    if (!n.textContent.trim() || !el.getClientRects().length || el.closest('title,script,style,option')) { continue; }
    const style = getComputedStyle(el);
    const ink = el instanceof SVGElement ? (el.getAttribute('fill') && el.getAttribute('fill')[0] === '#'
      ? hex(el.getAttribute('fill')) : parse(style.fill)) : parse(style.color);
    const [a, b] = [lum(ink.slice(0, 3)), lum(background(el))];
    const ratio = (Math.max(a, b) + 0.05) / (Math.min(a, b) + 0.05);
    if (ratio < 4.5) { bad.push(n.textContent.trim().slice(0, 30) + ' ' + ratio.toFixed(2)); }
  }
  return bad;
})()
