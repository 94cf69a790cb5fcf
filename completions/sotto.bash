# SPDX-License-Identifier: ISC
# bash completion for sotto (and its sops personality).
# Install: source this file, or copy it to
# /usr/share/bash-completion/completions/sotto (and link it as sops).

_sotto_opts() {
	case $1 in
	encrypt) echo "-i --in-place --output -a --age -p --pgp --input-type --output-type --filename-override --unencrypted-suffix --encrypted-suffix --unencrypted-regex --encrypted-regex --unencrypted-comment-regex --encrypted-comment-regex --mac-only-encrypted --shamir-secret-sharing-threshold --config --indent --help" ;;
	decrypt) echo "-i --in-place --output --extract --input-type --output-type --filename-override --ignore-mac --indent --help" ;;
	edit) echo "--ignore-mac --input-type --output-type -a --age -p --pgp --config --unencrypted-suffix --encrypted-suffix --unencrypted-regex --encrypted-regex --shamir-secret-sharing-threshold -s --show-master-keys --help" ;;
	set) echo "--value-file --value-stdin --idempotent --ignore-mac --input-type --output-type --help" ;;
	unset) echo "--idempotent --ignore-mac --input-type --output-type --help" ;;
	exec-env) echo "--pristine --same-process --background --user --ignore-mac --input-type --help" ;;
	exec-file) echo "--no-fifo --filename --background --user --ignore-mac --input-type --output-type --help" ;;
	filestatus) echo "--input-type --help" ;;
	rotate) echo "-i --in-place --output --add-age --rm-age --add-pgp --rm-pgp --rm-kms --rm-gcp-kms --rm-azure-kv --rm-hc-vault-transit --rm-hckms --input-type --output-type --ignore-mac --help" ;;
	updatekeys) echo "-y --yes -r --recursive --input-type --config --shamir-secret-sharing-threshold --help" ;;
	groups) echo "add delete -f --file --age --pgp -i --in-place --shamir-secret-sharing-threshold --help" ;;
	config) echo "explain --config --help" ;;
	age) echo "-e -d -r -R -i -a -p -o --encrypt --decrypt --armor --passphrase --output --help" ;;
	age-keygen) echo "-o -y --pq --help" ;;
	controller) echo "--once --config --kubeconfig --context --namespace --field-manager --cache-dir --interval --health-addr --leader-elect --lease-namespace --lease-name --lease-duration --identity --no-cross-namespace-refs --default-service-account --allow-http-sources --allow-file-sources --feature-gates --list-fields --help" ;;
	reconcile) echo "-n --namespace --with-source --timeout --kubeconfig --context --once --help" ;;
	get) echo "-n --namespace -A --all-namespaces -o --output -w --watch --kubeconfig --context --help" ;;
	suspend | resume) echo "-n --namespace --timeout --kubeconfig --context --help" ;;
	install) echo "--export -n --namespace --components-only --crds-only --kubeconfig --context --help" ;;
	events) echo "--for -n --namespace -A --all-namespaces -w --watch --kubeconfig --context --help" ;;
	check) echo "--pre -n --namespace --kubeconfig --context --help" ;;
	uninstall) echo "--keep-namespace --delete-keys --dry-run -s --silent -n --namespace --kubeconfig --context --help" ;;
	tree) echo "-n --namespace --kubeconfig --context --help" ;;
	logs) echo "-f --follow --tail --level --kind --name -n --namespace -A --all-namespaces --flux-namespace --kubeconfig --context --help" ;;
	build) echo "--path --show-secrets --kustomization-file --dry-run -n --namespace --kubeconfig --context --help" ;;
	diff) echo "--path --kustomization-file -n --namespace --kubeconfig --context --help" ;;
	bootstrap) echo "--url --branch --path --private-key-file --username --password-stdin --ca-file -n --namespace --secret-name --interval --author-name --author-email --timeout --dry-run --allow-file-sources --kubeconfig --context --help" ;;
	esac
}

_sotto() {
	local cur prev cmd i cmds
	cur=${COMP_WORDS[COMP_CWORD]}
	prev=${COMP_WORDS[COMP_CWORD-1]}
	cmds="age age-keygen encrypt decrypt edit set unset exec-env exec-file filestatus rotate updatekeys groups config controller reconcile get suspend resume install uninstall check events tree logs build diff bootstrap cluster version help"
	[ "${COMP_WORDS[0]##*/}" = sops ] &&
	    cmds="encrypt decrypt edit rotate updatekeys set unset exec-env exec-file filestatus groups"
	cmd=
	for ((i = 1; i < COMP_CWORD; i++)); do
		case " $cmds " in *" ${COMP_WORDS[i]} "*) cmd=${COMP_WORDS[i]}; break ;; esac
	done
	case $prev in
	--input-type | --output-type)
		COMPREPLY=($(compgen -W "yaml json dotenv ini binary" -- "$cur"))
		return ;;
	--output | --config | --value-file | --file | --private-key-file | --kubeconfig | --kustomization-file | --ca-file)
		COMPREPLY=($(compgen -f -- "$cur"))
		return ;;
	-f)
		[ "$cmd" != logs ] && COMPREPLY=($(compgen -f -- "$cur"))
		[ "$cmd" != logs ] && return ;;
	--path)
		COMPREPLY=($(compgen -d -- "$cur"))
		return ;;
	--level)
		COMPREPLY=($(compgen -W "debug info error" -- "$cur"))
		return ;;
	--kind)
		COMPREPLY=($(compgen -W "Kustomization GitRepository" -- "$cur"))
		return ;;
	esac
	if [ -z "$cmd" ]; then
		if [[ $cur == -* ]]; then
			COMPREPLY=($(compgen -W "--help --version" -- "$cur"))
		else
			COMPREPLY=($(compgen -W "$cmds" -- "$cur") $(compgen -f -- "$cur"))
		fi
		return
	fi
	if [[ $cur == -* ]]; then
		COMPREPLY=($(compgen -W "$(_sotto_opts "$cmd")" -- "$cur"))
	elif [ "$prev" = "$cmd" ] && [[ " get reconcile suspend resume tree build diff bootstrap " == *" $cmd "* ]]; then
		# the kind: flux's words
		if [ "$cmd" = get ]; then
			COMPREPLY=($(compgen -W "kustomizations ks sources" -- "$cur"))
		elif [ "$cmd" = bootstrap ]; then
			COMPREPLY=($(compgen -W "git" -- "$cur"))
		elif [[ " tree build diff " == *" $cmd "* ]]; then
			COMPREPLY=($(compgen -W "kustomization ks" -- "$cur"))
		else
			COMPREPLY=($(compgen -W "kustomization ks source" -- "$cur"))
		fi
	elif [ "$prev" = source ] || [ "$prev" = sources ]; then
		COMPREPLY=($(compgen -W "git" -- "$cur"))
	else
		COMPREPLY=($(compgen -f -- "$cur"))
	fi
}
complete -F _sotto sotto sops
