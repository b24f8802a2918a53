/* Shuangsui Gateway: what every form page does in the browser (no inline scripts: the CSP forbids them).
 * - After a failed submit the error summary takes the focus, so keyboard and screen-reader users hear it.
 * - On the plan form (form[data-follow-year]) a new year moves the prefilled title and dates with it. */
(function () {
  'use strict';
  var summary = document.getElementById('error-summary');
  if (summary) summary.focus();

  var form = document.querySelector('form[data-follow-year]');
  if (!form) return;
  var year = form.querySelector('[name="year"]');
  if (!year) return;
  var last = year.value;
  year.addEventListener('input', function () {
    var next = year.value.trim();
    if (!/^\d{4}$/.test(next) || next === last) return;
    ['title', 'window_start', 'window_end'].forEach(function (name) {
      var field = form.querySelector('[name="' + name + '"]');
      if (field && field.value.indexOf(last) !== -1) field.value = field.value.split(last).join(next);
    });
    last = next;
  });
})();
