// Login page: shows the refusal message after a failed attempt.
'use strict';
document.addEventListener('DOMContentLoaded', function () {
  var params = new URLSearchParams(window.location.search);
  if (params.get('error') === 'refused') {
    document.getElementById('refused').hidden = false;
  }
});
