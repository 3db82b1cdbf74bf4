"""symgrad check-doc gives every declared letter one meaning: a letter declared in two roles (a
size and an index, an index and a tensor's entries, a tensor and a defined quantity, Euler's e
and an index) is one line on stderr and exit status 2, naming both roles."""

from __future__ import annotations

import pytest

from .test_checkdoc_verdicts import cli, one_line_error, post, verdicts


# m² x₁ − 3 m x₁ + 2 x₁ is 0 at m = 1 and m = 2 but 2 x₁ at the size m = 3: m read as an index
# ranging over 1..2 would prove it.
def test_an_index_named_as_a_size_is_refused(tmp_path):
    decl = {"sizes": [{"n": 2, "m": 3}], "indices": {"i": "n", "m": "n"}, "tensors": {"X": ["n"]}}
    one_line_error(cli(post(tmp_path, decl, "m^{2} x_1 - 3 m x_1 + 2 x_1 = 0")), "size m", "index m")


@pytest.mark.parametrize(
    "key, value, roles",
    [
        ("indices", {"i": "n", "n": "n"}, ("size n", "index n")),
        ("indices", {"e": "n"}, ("Euler's number e", "index e")),
        ("indices", {"x": "n"}, ("tensor X", "index x")),
        ("indices", {"X": "n"}, ("tensor X", "index X")),
    ],
)
def test_an_index_in_another_role_is_refused(tmp_path, key, value, roles):
    decl = {"sizes": [{"n": 2}], "indices": {"i": "n"}, "tensors": {"X": ["n"]}, key: value}
    one_line_error(cli(post(tmp_path, decl, "x_1 = x_1")), *roles)


@pytest.mark.parametrize(
    "changes, roles",
    [
        ({"sizes": [{"n": 2, "x": 2}]}, ("size x", "tensor X")),
        ({"sizes": [{"n": 2, "X": 2}]}, ("size X", "tensor X")),
        ({"sizes": [{"n": 2, "e": 2}]}, ("Euler's number e", "size e")),
        ({"tensors": {"X": ["n"], "E": ["n"]}}, ("Euler's number e", "tensor E")),
        ({"define": {"e": "2"}}, ("Euler's number e", "defined as e")),
        ({"define": {"C": "x_1", "c_{i}": "x_i"}}, ("defined as C", "defined as c_{i}")),
        ({"define": {"y_{i}": "x_i"}, "tensors": {"X": ["n"], "Y": ["n"]}}, ("tensor Y", "defined by y_{i}")),
    ],
)
def test_sizes_tensors_and_definitions_in_two_roles_are_refused(tmp_path, changes, roles):
    decl = {"sizes": [{"n": 2}], "indices": {"i": "n"}, "tensors": {"X": ["n"]}, **changes}
    one_line_error(cli(post(tmp_path, decl, "x_1 = x_1")), *roles)


@pytest.mark.parametrize(
    "define", [{"X": "0"}, {"X_{i}": "0"}, {"x": "0"}, {"x_{i}": "0"}, {"\\boldsymbol{X}": "0"}, {"\\mathbf{x}": "0"}]
)
def test_a_definition_of_a_declared_tensor_is_refused_by_name(tmp_path, define):
    decl = {"sizes": [{"n": 2}], "indices": {"i": "n"}, "tensors": {"X": ["n"]}, "define": define}
    one_line_error(cli(post(tmp_path, decl, "X = 0")), "declared tensor", "defined by")


def test_a_sum_over_a_clean_declaration_is_proven(tmp_path):
    decl = {"sizes": [{"n": 2}], "indices": {"i": "n"}, "tensors": {"X": ["n"]}}
    path = post(tmp_path, decl, r"\sum_{i=1}^{n} x_i = x_1 + x_2")
    assert verdicts(path) == [("proven", "")]
    assert cli(path).returncode == 0


IJK = {"sizes": [{"n": 3}], "indices": {"i": "n", "j": "n", "k": "n"}, "tensors": {"X": ["n"]}}


@pytest.mark.parametrize(
    "formula",
    [
        r"x_i = x_k, \quad i = k = j",
        r"x_i = x_k, i = k = j",
        r"x_i = x_k \quad \text{ for } i = k",
        r"x_i + x_j = x_k + x_j, \; j \ne i = k",
    ],
)
def test_a_case_written_after_the_formula_is_a_case_not_a_link(tmp_path, formula):
    """x_i = x_k holds exactly where i = k: the case after the formula says so, it is not checked."""
    path = post(tmp_path, IJK, formula)
    assert verdicts(path) == [("pattern", "holds only where i = k")]
    assert cli(path).returncode == 0


def test_a_chain_of_unequal_indices_sets_every_pair_apart(tmp_path):
    r"""x_i x_j x_k - x_1 x_2 x_3 is 0 whenever i, j, k are 1, 2, 3 in some order: with n = 3 that is
    exactly "i ≠ k ≠ j" read as every pair apart; read as i ≠ k and k ≠ j only, i = j is let in and
    x_1 x_1 x_2 ≠ x_1 x_2 x_3."""
    path = post(tmp_path, IJK, r"x_i x_j x_k = x_1 x_2 x_3, \; i \ne k \ne j")
    [(verdict, _)] = verdicts(path)
    assert verdict == "pattern"
    assert cli(path).returncode == 0


def test_a_chained_case_the_line_does_not_hold_in_is_refuted(tmp_path):
    path = post(tmp_path, IJK, r"x_i = x_k, \quad i \ne k \ne j")
    [(verdict, reason)] = verdicts(path)
    assert verdict == "refuted", reason
    assert cli(path).returncode == 1


def test_a_chained_case_stated_in_the_prose_sets_every_pair_apart(tmp_path):
    path = post(tmp_path, IJK, r"x_i x_j x_k = x_1 x_2 x_3", prose=r"For $i \ne k \ne j$, the product is")
    [(verdict, _)] = verdicts(path)
    assert verdict == "pattern"


def test_a_derivative_through_a_quantity_the_definition_does_not_reach_is_not_checked(tmp_path):
    """L = x_1² x_2 and y_i = x_i²: L is x_1² x_2 = y_1 x_2 rewritten in y, whose ∂/∂y_1 is x_2, yet
    L's definition does not go through y (0 as backpropagation reads it). Neither is checked."""
    decl = {
        "sizes": [{"n": 2}],
        "indices": {"i": "n"},
        "tensors": {"X": ["n"]},
        "define": {"L": "x_1^{2} x_2", "y_{i}": "x_i^{2}"},
    }
    for right in ("x_2", "0"):
        path = post(tmp_path, decl, rf"\frac{{\partial L}}{{\partial y_1}} = {right}")
        [(verdict, reason)] = verdicts(path)
        assert verdict == "unchecked", reason
        assert "L's definition does not go through y_{1}" in reason and "define L in terms of y" in reason
        assert cli(path).returncode == 0


@pytest.mark.parametrize("right, verdict, code", [("0", "proven", 0), ("x_2", "refuted", 1)])
def test_a_derivative_through_a_quantity_of_other_inputs_is_zero(tmp_path, right, verdict, code):
    """y_i = w_i² reads none of L's inputs: ∂L/∂y_1 is 0 whatever L is written in."""
    decl = {
        "sizes": [{"n": 2}],
        "indices": {"i": "n"},
        "tensors": {"X": ["n"], "W": ["n"]},
        "define": {"L": "x_1^{2} x_2", "y_{i}": "w_i^{2}"},
    }
    path = post(tmp_path, decl, rf"\frac{{\partial L}}{{\partial y_1}} = {right}")
    assert [v for v, _ in verdicts(path)] == [verdict]
    assert cli(path).returncode == code


def test_a_derivative_through_a_quantity_the_definition_reaches_is_checked(tmp_path):
    """L = y_1 x_2 with y_i = x_i²: ∂L/∂y_1 = x_2 (L's own definition, y as its variables)."""
    decl = {
        "sizes": [{"n": 2}],
        "indices": {"i": "n"},
        "tensors": {"X": ["n"]},
        "define": {"L": "y_1 x_2", "y_{i}": "x_i^{2}"},
    }
    assert verdicts(post(tmp_path, decl, r"\frac{\partial L}{\partial y_1} = x_2")) == [("proven", "")]
    assert [v for v, _ in verdicts(post(tmp_path, decl, r"\frac{\partial L}{\partial y_1} = 0"))] == ["refuted"]


@pytest.mark.parametrize(
    "front",
    [
        "symgrad:\n  sizes: [{n: 2}]\n  indices: {i: n, i: n}\n  tensors: {X: [n]}\n",
        "symgrad:\n  sizes: [{n: 2, n: 3}]\n  tensors: {X: [n]}\n",
        'symgrad:\n  sizes: [{n: 2}]\n  tensors: {X: [n]}\n  define: {"L": "x_1", "L": "x_2"}\n',
        "symgrad:\n  sizes: [{n: 2}]\n  tensors: {X: [n]}\nsymgrad:\n  sizes: [{n: 3}]\n  tensors: {X: [n]}\n",
    ],
)
def test_a_key_written_twice_in_the_declarations_is_refused(tmp_path, front):
    """YAML keeps the last of two equal keys, silently: L = x_2 would be checked where x_1 was meant."""
    path = tmp_path / "post.md"
    path.write_text(f"---\n{front}---\n\n$$\nL = x_2\n$$\n", encoding="utf-8")
    one_line_error(cli(path), "written twice")


def test_declarations_in_both_the_front_matter_and_a_file_beside_the_post_are_refused(tmp_path):
    """The file beside the post says n = 3 and the front matter n = 2: x_3 exists in one reading only."""
    path = post(tmp_path, {"sizes": [{"n": 2}], "tensors": {"X": ["n"]}}, "x_1 = x_1")
    (tmp_path / "post.md.symgrad.yaml").write_text("sizes: [{n: 3}]\ntensors: {X: [n]}\n", encoding="utf-8")
    one_line_error(cli(path), "front matter", "post.md.symgrad.yaml")
    path.write_text("---\ntitle: a post\n---\n\n$$\nx_3 = x_3\n$$\n", encoding="utf-8")
    assert cli(path).returncode == 0  # the file alone declares them


@pytest.mark.parametrize(
    "formula",
    [r"\frac{dL}{dx_1} = x_1", r"\frac{d L}{d x_{1}} = x_1", r"\frac{\mathrm{d} L}{\mathrm{d} x_1} = x_1"],
)
def test_a_derivative_written_with_d_is_not_read_as_a_product_by_a_size_d(tmp_path, formula):
    """dL/dx_1 = 2 x_1 for L = x_1², so "= x_1" is false; read as (d L)/(d x_1) with the size d it is
    L / x_1 = x_1, which would prove it."""
    decl = {"sizes": [{"d": 2}], "tensors": {"X": ["d"]}, "define": {"L": "x_1^{2}"}}
    path = post(tmp_path, decl, formula)
    [(verdict, reason)] = verdicts(path)
    assert verdict == "unchecked" and "\\partial" in reason, reason


def test_a_quotient_by_a_size_d_is_still_read(tmp_path):
    decl = {"sizes": [{"d": 2}], "tensors": {"X": ["d"]}}
    assert verdicts(post(tmp_path, decl, r"\frac{d x_1}{d} = x_1")) == [("proven", "")]


@pytest.mark.parametrize("written", ["010", "0x3", "0o3", "0b11", "1:30"])
def test_a_size_written_as_yaml_reads_an_octal_hex_or_sexagesimal_number_is_refused(tmp_path, written):
    """YAML 1.1 reads n: 010 as 8 and n: 1:30 as 90; the author may mean 10 or something else."""
    path = tmp_path / "post.md"
    path.write_text(f"---\nsymgrad:\n  sizes: [{{n: {written}}}]\n  tensors: {{X: [n]}}\n---\n\n$$\nx_1 = x_1\n$$\n")
    one_line_error(cli(path), "positive integers", f"n: '{written}'")


def test_a_size_written_as_a_plain_integer_is_read(tmp_path):
    path = tmp_path / "post.md"
    path.write_text("---\nsymgrad:\n  sizes: [{n: 10}]\n  tensors: {X: [n]}\n---\n\n$$\nn = 10\n$$\n")
    assert verdicts(path) == [("proven", "")]
