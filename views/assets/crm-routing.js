// Progressive enhancement for the CRM Routing pages. Every page works without it: the server
// asks before deleting, keeps the form in one piece and moves rows with its own buttons.
(function () {
  'use strict';

  // Delete: ask exactly the server's question; only OK posts, with the answer attached.
  document.querySelectorAll('form[data-confirm]').forEach(function (form) {
    form.addEventListener('submit', function (event) {
      if (!window.confirm(form.getAttribute('data-confirm'))) { event.preventDefault(); return; }
      var confirmed = document.createElement('input');
      confirmed.type = 'hidden'; confirmed.name = 'confirmed'; confirmed.value = 'yes';
      form.appendChild(confirmed);
    });
  });

  var form = document.getElementById('rule-form');
  if (!form) return;

  // Each CRM suggests its own modules only: the module box follows the CRM chosen.
  function moduleSuggestions() {
    var crm = form.elements.namedItem('crm');
    var module = form.elements.namedItem('crmModule');
    if (!crm || !module) return;
    var list = crm.value && document.getElementById('crm-modules-' + crm.value) ? 'crm-modules-' + crm.value : 'crm-modules-any';
    module.setAttribute('list', list);
  }

  // Sections that apply to one choice only (greeting for IVR; integration vs custom fields).
  function toggleSections() {
    form.querySelectorAll('[data-show-when]').forEach(function (section) {
      var rule = section.getAttribute('data-show-when').split('=');
      var control = form.elements.namedItem(rule[0]);
      section.hidden = !!control && control.value !== rule[1];
    });
  }

  // A row's destination list shows the entries of its chosen type only.
  function filterTargets(row) {
    var type = row.querySelector('select[name="row_dest_type"]').value;
    var target = row.querySelector('select[name="row_dest_target"]');
    target.hidden = type === 'hangup';
    target.querySelectorAll('optgroup').forEach(function (group) {
      var match = group.getAttribute('data-type') === type;
      group.hidden = !match; group.disabled = !match;
    });
    var chosen = target.options[target.selectedIndex];
    if (chosen && chosen.value && chosen.getAttribute('data-type') !== type) target.value = '';
  }

  function credentialsHelp() {
    var crm = form.elements.namedItem('crm');
    var help = document.getElementById('credentials-help');
    if (!crm || !help) return;
    var option = crm.options[crm.selectedIndex];
    var line = option && option.getAttribute('data-help');
    // The same words as the server renders (views/routing/form.ejs).
    help.textContent = 'CRM specific, in the same way as for gloCOM: ' + (line || 'what it means depends on the CRM.');
  }

  // "is empty" takes no value: the box stays in the form (rows are posted by position) but is read-only.
  function valueForOperator(row) {
    var value = row.querySelector('input[name="row_value"]');
    var unary = row.querySelector('select[name="row_operator"]').value === 'empty';
    value.readOnly = unary;
    value.placeholder = unary ? 'no value needed' : '';
    if (unary) value.value = '';
  }

  form.addEventListener('change', function (event) {
    var t = event.target;
    if (t.name === 'row_operator') valueForOperator(t.closest('tr'));
    if (t.name === 'location' || t.name === 'source') toggleSections();
    if (t.name === 'source') showFetchFields();
    if (t.name === 'row_dest_type') filterTargets(t.closest('tr'));
    if (t.name === 'crm') { credentialsHelp(); showFetchFields(); moduleSuggestions(); }
    // Fields fetched for another CRM or module no longer apply.
    if ((t.name === 'crm' || t.name === 'crmModule' || t.name === 'source') && picker) picker.hidden = true;
  });
  toggleSections();
  form.querySelectorAll('tr.crm-row').forEach(function (row) { filterTargets(row); valueForOperator(row); });

  // Field picker: lists the chosen CRM module's fields; picking one fills CRM Field Name with its
  // API name (Pipedrive's are 40-character hashes). Typing by hand still works.
  var fetchButton = document.getElementById('fetch-fields');
  var status = document.getElementById('fetch-fields-status');
  var picker = document.getElementById('crm-field-picker');
  var fieldName = form.elements.namedItem('fieldName');
  function showPicker(fields, module) {
    if (!picker) return;
    picker.textContent = '';
    var prompt = document.createElement('option');
    prompt.value = ''; prompt.textContent = 'Pick one of the ' + fields.length + ' fields of ' + module;
    picker.appendChild(prompt);
    fields.forEach(function (field) {
      var option = document.createElement('option');
      option.value = field.name; option.textContent = field.label + ' (' + (field.type ? field.type + ', ' : '') + field.name + ')';
      option.selected = field.name === fieldName.value;
      picker.appendChild(option);
    });
    picker.hidden = false;
  }
  if (picker) {
    picker.addEventListener('change', function () {
      if (picker.value) fieldName.value = picker.value;
    });
  }
  function showFetchFields() {
    var crm = form.elements.namedItem('crm');
    if (fetchButton) fetchButton.hidden = !(crm && crm.value && form.elements.namedItem('source').value === 'integration');
  }
  showFetchFields();
  if (fetchButton) {
    fetchButton.addEventListener('click', function () {
      var crm = form.elements.namedItem('crm').value;
      var module = form.elements.namedItem('crmModule').value.trim();
      var base = form.getAttribute('data-base') || '';
      if (!module) {
        status.textContent = 'Enter the CRM Module first: its fields are what is listed.';
        form.elements.namedItem('crmModule').focus();
        return;
      }
      status.textContent = 'Fetching fields...';
      // A password typed earlier travels sealed in the form's draft; the server opens it.
      var body = new URLSearchParams({
        module: module, username: form.elements.namedItem('crmUsername').value, password: form.elements.namedItem('crmPassword').value,
        secretDraft: form.elements.namedItem('secretDraft').value, form: form.getAttribute('data-form-id') || 'rule:new',
      });
      fetch(base + '/integration/' + encodeURIComponent(crm) + '/fields', {
        method: 'POST', credentials: 'same-origin',
        headers: { 'x-csrf-token': form.elements.namedItem('_csrf').value, 'content-type': 'application/json', accept: 'application/json' },
        body: JSON.stringify(Object.fromEntries(body)),
      }).then(function (res) { return res.json(); }).then(function (answer) {
        if (!answer.ok) { status.textContent = answer.message; return; }
        var list = document.getElementById('crm-field-suggestions');
        list.textContent = '';
        answer.fields.forEach(function (field) {
          var option = document.createElement('option');
          option.value = field.name; option.textContent = field.label + ' (' + field.type + ')';
          list.appendChild(option);
        });
        showPicker(answer.fields, module);
        status.textContent = answer.fields.length + ' fields of ' + module + ': pick one in the list next to Fetch fields, or type its API name.';
      }).catch(function () { status.textContent = 'Could not fetch the fields; type the API name instead.'; });
    });
  }

  // Leaving a changed form asks first (the browser's own "Leave site?"): a link such as Recent
  // calls, the menu, or closing the tab. Posting the form itself (Save, Test rule, the row
  // buttons) never asks; neither do the Test rule fields, which change no rule.
  function snapshot() {
    var pairs = [];
    new FormData(form).forEach(function (value, name) {
      if (name === '_csrf' || name === 'secretDraft' || name === 'version' || name.indexOf('test') === 0) return;
      pairs.push(name + '=' + value);
    });
    return pairs.join('&');
  }
  moduleSuggestions();
  var initial = snapshot();
  var leaving = false;
  document.addEventListener('submit', function (event) { if (!event.defaultPrevented) leaving = true; });
  window.addEventListener('beforeunload', function (event) {
    if (leaving) return;
    if (form.getAttribute('data-unsaved') === 'yes' || snapshot() !== initial) {
      event.preventDefault();
      event.returnValue = '';
    }
  });
})();
