import { mount } from 'svelte';
import './app.css';
import './styles/forms.css';
import App from './App.svelte';

const target = document.getElementById('app');
if (!target) throw new Error('#app element missing');

export default mount(App, { target });
