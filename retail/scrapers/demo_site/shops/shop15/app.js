// Builds the shop's home page from its product feed, as single-page shops do.
fetch('/shops/shop15/products.json').then(r => r.json()).then(items => {
  const tiles = items.map(i => `<li class="product-card"><a href="/shops/shop15/products/${i.slug}.html">${i.name}</a>
    <span class="price">&pound;${i.price}</span></li>`).join('');
  document.getElementById('app').innerHTML = `
    <header class="site-header"><a href="/shops/shop15/">Outdoor Edge</a></header>
    <main><h1>Outdoor Edge</h1><p>Bushcraft and camping blades.</p><ul class="product-grid">${tiles}</ul></main>
    <footer class="site-footer"><a href="/shops/shop15/delivery.html">Delivery information</a></footer>`;
});
