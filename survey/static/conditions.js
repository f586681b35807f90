// Conditions (skip logic) on the survey page: a question or part whose data-show-if holds is
// shown, any other hidden (the hidden attribute) with its inputs disabled, so that nothing of
// it is posted. The rules are those of questionnaires/conditions.py, which the server applies
// again to what is posted: it is the authority, this only spares the respondent the questions
// that do not concern them. Without JavaScript every question is shown with a note of when to
// answer it, and the server ignores the answers to those the other answers hide.
(function () {
  "use strict";
  var form = document.querySelector(".survey-form");
  if (!form || !form.querySelector("[data-show-if]")) return;

  function answerOf(question) {
    var code = question.id.replace(/^question-/, "");
    var inputs = form.querySelectorAll('[name="q_' + code + '"]');
    var values = [];
    var multiple = false;
    Array.prototype.forEach.call(inputs, function (input) {
      if (input.type === "checkbox") {
        multiple = true;
        if (input.checked) values.push(input.value);
      } else if (input.type === "radio") {
        if (input.checked) values.push(input.value);
      } else if (input.value.trim()) {
        values.push(input.value.trim());
      }
    });
    if (multiple) return values;
    return values.length ? values[0] : null;
  }

  function unanswered(value) {
    return value === null || value === undefined || value === "" ||
      (Array.isArray(value) && value.length === 0);
  }

  var INTEGER = /^-?[0-9]{1,12}$/;
  function compare(answer, op, literal) {
    if (literal === "") {
      if (op === "=") return unanswered(answer);
      if (op === "!=") return !unanswered(answer);
      return false;
    }
    if (unanswered(answer)) return false;
    if (Array.isArray(answer)) answer = answer.join(" ");
    var left = String(answer), right = String(literal);
    if (INTEGER.test(left) && INTEGER.test(right)) {
      left = Number(left);
      right = Number(right);
    }
    switch (op) {
      case "=": return left === right;
      case "!=": return left !== right;
      case "<": return left < right;
      case "<=": return left <= right;
      case ">": return left > right;
      case ">=": return left >= right;
    }
    return false;
  }

  function holds(node, answers) {
    switch (node.op) {
      case "and": return node.args.every(function (a) { return holds(a, answers); });
      case "or": return node.args.some(function (a) { return holds(a, answers); });
      case "not": return !holds(node.arg, answers);
      case "selected":
        var answer = answers[node.q];
        if (Array.isArray(answer)) return answer.indexOf(String(node.v)) !== -1;
        return !unanswered(answer) && String(answer) === String(node.v);
      default: return compare(answers[node.q], node.op, node.v);
    }
  }

  function condition(element) {
    var text = element.getAttribute("data-show-if");
    return text ? JSON.parse(text) : null;
  }

  function setInputs(element, enabled) {
    element.querySelectorAll("input, textarea, select").forEach(function (input) {
      input.disabled = !enabled;
    });
  }

  // In the order of the page: a hidden question's answer counts as not given further on. A
  // grid's box carries its rows' condition too, so that its text and header go with them.
  function sync() {
    var answers = {};
    var sectionShown = true;
    form.querySelectorAll(".survey-section, .grid-question, .question, .survey-note").forEach(function (element) {
      var rule = condition(element);
      if (element.classList.contains("survey-section")) {
        sectionShown = !rule || holds(rule, answers);
        element.hidden = !sectionShown;
        if (sectionShown) setInputs(element, true);
        return;
      }
      var own = !rule || holds(rule, answers);
      if (rule) element.hidden = !own;
      var shown = sectionShown && own;
      setInputs(element, shown);
      if (shown) answers[element.id.replace(/^question-/, "")] = answerOf(element);
    });
    renumber();
    form.dispatchEvent(new CustomEvent("conditions-synced"));
  }

  // Number the parts and questions shown 1, 2, 3, ...: a gap would look like a page missing.
  function renumber() {
    var parts = Array.prototype.filter.call(
      form.querySelectorAll(".survey-section"), function (s) { return !s.hidden; });
    parts.forEach(function (part, index) {
      var step = part.querySelector(".survey-section__step[data-step]");
      if (step) {
        step.textContent = step.getAttribute("data-step")
          .replace("{n}", index + 1).replace("{total}", parts.length);
      }
    });
    var n = 0;
    form.querySelectorAll(".question__number").forEach(function (number) {
      if (!number.closest("[hidden]")) number.textContent = ++n + ".";
    });
  }

  // The page now shows only what applies, so the notes for a page without script go.
  form.querySelectorAll("[data-condition-note]").forEach(function (note) { note.hidden = true; });
  sync();
  form.addEventListener("change", sync);
  form.addEventListener("input", sync);
})();
