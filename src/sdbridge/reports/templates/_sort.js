// Every table sorts by a click on a column heading (numbers as numbers), again to reverse.
(function () {
  Array.prototype.forEach.call(document.querySelectorAll("table"), function (table) {
    var head = table.tHead ? table.tHead.rows[0] : table.rows[0];
    if (!head) { return; }
    Array.prototype.forEach.call(head.cells, function (cell, column) {
      cell.style.cursor = "pointer";
      cell.title = "Sort by this column";
      cell.addEventListener("click", function () {
        var body = table.tBodies[0];
        var rows = Array.prototype.slice.call(body.rows).filter(function (r) { return r !== head; });
        var up = cell.dataset.sorted !== "up";
        Array.prototype.forEach.call(head.cells, function (c) { delete c.dataset.sorted; });
        cell.dataset.sorted = up ? "up" : "down";
        function key(row) {
          var text = (row.cells[column] ? row.cells[column].textContent : "").trim();
          var number = parseFloat(text);
          return text !== "" && !isNaN(number) && /^-?[\d.]+$/.test(text) ? number : text.toLowerCase();
        }
        rows.sort(function (a, b) {
          var x = key(a), y = key(b);
          if (typeof x !== typeof y) { x = String(x); y = String(y); }
          return (x < y ? -1 : x > y ? 1 : 0) * (up ? 1 : -1);
        });
        rows.forEach(function (row) { body.appendChild(row); });
      });
    });
  });
})();
