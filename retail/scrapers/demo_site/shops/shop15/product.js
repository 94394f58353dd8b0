// Fills a product page in from the product's data file: the name, price, description and age wording only
// appear once this script has run.
const slug = location.pathname.split('/').pop().replace('.html', '');
fetch('/shops/shop15/data/' + slug + '.json').then(r => r.json()).then(p => {
  document.title = p.name + ' | Outdoor Edge';
  document.getElementById('app').innerHTML = `<main><h1>${p.name}</h1><p class="price">&pound;${p.price}</p>
    <p>${p.description}</p><form action="/basket" method="post"><button>Add to basket</button></form>
    <p class="age-note">${p.age}</p></main>
    <footer class="site-footer"><a href="/shops/shop15/delivery.html">Delivery information</a></footer>`;
});
